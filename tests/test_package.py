"""The package's top level: lazy submodules and exported names."""

from pathlib import Path

import keras_style


def test_every_module_is_an_attribute():
    """``keras_style.X`` for every module file (notebook and fetch_vgg were missing once)."""
    folder = Path(keras_style.__file__).parent
    names = {p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")}
    names |= {p.name for p in folder.iterdir() if (p / "__init__.py").exists()}
    for name in sorted(names):
        assert getattr(keras_style, name).__name__ == f"keras_style.{name}"


def test_exported_names_resolve():
    for name in keras_style.__all__:
        assert callable(getattr(keras_style, name)) or getattr(keras_style, name) is not None
