"""keras_style: neural style transfer for Keras 3."""
__version__ = "0.1.0"
