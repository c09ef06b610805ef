# Seed 000's dense and dense-dropout models in Keras, as Docs/Results.md cites them: does Keras's
# dense-dropout collapse (all images called PNEUMONIA) with Adam 1e-3 on 150x150 grayscale [0, 1],
# as this library's does? Versions: those of Benchmarks/Compare/requirements.txt (tensorflow-cpu
# 2.21.0, keras 3.15.1). Run from the repository root, with ../shared/data beside it:
#   Benchmarks/Compare/.venv/bin/python Docs/scripts/keras_dense_dropout.py 1
# It trains on all of chest_xray/train (no validation split: the point is the training curve) for
# 4 epochs each and prints the per-epoch history. The argument is the seed.
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf, keras
tf.config.threading.set_intra_op_parallelism_threads(2); tf.config.threading.set_inter_op_parallelism_threads(1)
keras.utils.set_random_seed(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
ds = keras.utils.image_dataset_from_directory(os.path.join(os.path.dirname(__file__), "../../../shared/data/chest_xray/train"), labels="inferred", label_mode="binary",
    color_mode="grayscale", image_size=(150, 150), batch_size=32, shuffle=True, seed=1)
ds = ds.map(lambda x, y: (x / 255.0, y)).cache()
for dropout in (False, True):
    layers = [keras.Input((150, 150, 1)), keras.layers.Flatten(), keras.layers.Dense(128, activation="relu")]
    if dropout: layers.append(keras.layers.Dropout(0.5))
    layers.append(keras.layers.Dense(64, activation="relu"))
    if dropout: layers.append(keras.layers.Dropout(0.5))
    layers.append(keras.layers.Dense(1, activation="sigmoid"))
    m = keras.Sequential(layers)
    m.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy", metrics=["accuracy", keras.metrics.AUC(name="auc")])
    h = m.fit(ds, epochs=4, verbose=0)
    print("dropout" if dropout else "plain", {k: [round(v, 4) for v in vs] for k, vs in h.history.items()}, flush=True)
