"""Pretrained keras_style networks: NAME.weights.h5 + NAME.json (see weights/README.md)."""
