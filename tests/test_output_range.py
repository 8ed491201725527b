"""benchmarks/output_range.py: the raw output it measures is the network's output unclipped."""

import numpy as np


def test_raw_output_is_the_network_output_before_its_clip(load_benchmark):
    from keras_style.nets.johnson import build_transformer

    rng = np.random.default_rng(0)
    script = load_benchmark("output_range")
    model = build_transformer("light")  # ends in LinearPixels
    for w in model.trainable_weights:  # an untrained network stays inside [0, 1]: shake it
        w.assign(w + rng.normal(0, 0.3, w.shape).astype("float32"))
    x = rng.random((1, 64, 56, 3)).astype("float32")
    raw = np.asarray(script.raw_output_model(model)(x))
    clipped = np.asarray(model(x, training=False))
    assert raw.min() < 0 or raw.max() > 1  # so the comparison below means something
    np.testing.assert_allclose(np.clip(raw, 0, 1), clipped, atol=1e-5)
    assert script.raw_output_model(build_transformer("johnson")) is None  # the tanh network
