"""Run by tests/test_training.py in a fresh process: TensorFlow must be given two logical
CPU devices before it starts.  Prints one JSON line of measurements."""

import json
import os
import sys

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import tensorflow as tf  # noqa: E402

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_style import image as im  # noqa: E402
from keras_style.losses import PerceptualLoss  # noqa: E402
from keras_style.training import (TrainConfig, build_network, make_model_input,  # noqa: E402
                                  make_objective, make_strategy, make_train_step)


def weight_changes(cfg, style_image, batches):
    """The change of every weight after the batches, with plain SGD (Adam's first steps
    turn float noise in a near-zero gradient into a full step, which would hide the
    comparison)."""
    strategy, _ = make_strategy(cfg)
    keras.utils.set_random_seed(0)
    with strategy.scope():
        model, _ = build_network(cfg, style_image)
        loss = PerceptualLoss(cfg.loss_config())
        optimizer = keras.optimizers.SGD(learning_rate=1e-13)
        optimizer.build(model.trainable_variables)
    before = [np.asarray(v) for v in model.weights]
    step = make_train_step(model, optimizer,
                           make_objective(cfg, loss, loss.style_targets(style_image)),
                           make_model_input(cfg), strategy)
    terms, deltas = [], []
    for batch in batches:  # each replica gets its share of the global batch
        dist = strategy.experimental_distribute_values_from_function(
            lambda ctx, b=batch: tf.split(b, ctx.num_replicas_in_sync)[
                ctx.replica_id_in_sync_group])
        terms.append(float(step(dist)["total"]))
        deltas.append([np.asarray(v) - b for v, b in zip(model.weights, before)])
    return deltas, terms, strategy.num_replicas_in_sync


def main(data, style, out):
    style_image = im.load_image(style, max_size=48)
    rng = np.random.default_rng(0)
    batches = [tf.constant(rng.uniform(0, 1, (2, 48, 48, 3)).astype("float32"))
               for _ in range(2)]
    result = {}
    for mode in ("default", "mirrored"):
        cfg = TrainConfig(style=style, data=data, out=f"{out}/{mode}", arch="light",
                          image_size=48, batch_size=2, distribute=mode, progress=False)
        deltas, terms, replicas = weight_changes(cfg, style_image, batches)
        result[mode] = {"deltas": deltas, "terms": terms, "replicas": replicas}
    # the checkpoint format does not depend on the strategy: a mirrored run resumes on one
    from keras_style.training import fit
    common = dict(style=style, data=data, out=f"{out}/ckpt", arch="light", image_size=48,
                  batch_size=2, progress=False, checkpoint_every=1, threads=1)
    first = fit(TrainConfig(**common, steps=1, distribute="mirrored"))
    resumed = fit(TrainConfig(**common, steps=2, resume=True))
    one, two = result["default"]["deltas"], result["mirrored"]["deltas"]
    first_scale = max(float(np.abs(d).max()) for d in one[0])
    print(json.dumps({
        "replicas": [result[m]["replicas"] for m in ("default", "mirrored")],
        "terms": [result[m]["terms"] for m in ("default", "mirrored")],
        "first_step_change": first_scale,
        # the L2 norm of the difference of the two updates over that of the update, all
        # weights together (single small tensors such as a norm's gamma sum heavily
        # cancelling terms, so float32 summation order alone moves them by a few %)
        "first_step_relative_difference": float(np.sqrt(
            sum(np.sum((x - y) ** 2) for x, y in zip(one[0], two[0]))
            / sum(np.sum(x ** 2) for x in one[0]))),
        "final_weight_difference": max(float(np.abs(x - y).max())
                                       for x, y in zip(one[-1], two[-1])),
        "resume": [first.status, first.metadata["steps"], resumed.status,
                   resumed.metadata["steps"]],
    }))


if __name__ == "__main__":
    main(*sys.argv[1:4])
