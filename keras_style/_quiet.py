"""Importing this module imports TensorFlow quietly; modules that need Keras or TensorFlow
import it first, so users see our messages rather than TensorFlow's start-up log."""

from keras_style._tfenv import quiet_tensorflow

quiet_tensorflow()
