"""The nine seed models of ../shared/docs/seed-models.md built in Keras, with what Keras's summary reports
for each: every layer's class, output shape and parameter count, and the totals.

Run: python Tests/ReferenceScripts/seed_model_fixtures.py  (writes Tests/LayersTests/Fixtures/seed_models.json)
Pinned: keras==3.15.1, tensorflow-cpu==2.21.0 (see requirements.txt).
"""
import json
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "LayersTests", "Fixtures", "seed_models.json")


def dense(dropout):
    x = inp = keras.Input((150, 150, 1))
    x = layers.Flatten()(x)
    x = layers.Dense(128, activation="relu")(x)
    if dropout:
        x = layers.Dropout(0.5)(x)
    x = layers.Dense(64, activation="relu")(x)
    if dropout:
        x = layers.Dropout(0.5)(x)
    return keras.Model(inp, layers.Dense(1, activation="sigmoid")(x))


def cnn():
    return keras.Sequential([
        keras.Input((150, 150, 1)),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Flatten(), layers.Dense(128, activation="relu"), layers.Dense(1, activation="sigmoid"),
    ])


def cnn150():
    return keras.Sequential([
        keras.Input((150, 150, 3)),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(128, 3, activation="relu"), layers.MaxPooling2D(2), layers.SpatialDropout2D(0.2),
        layers.Conv2D(128, 3, activation="relu"), layers.MaxPooling2D(2), layers.SpatialDropout2D(0.2),
        layers.Flatten(), layers.Dense(512, activation="relu"), layers.Dense(1, activation="sigmoid"),
    ])


def cnn128():
    return keras.Sequential([
        keras.Input((128, 128, 3)),
        layers.Conv2D(128, 3, padding="same", activation="relu"), layers.Dropout(0.2), layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"), layers.Dropout(0.2), layers.MaxPooling2D(2),
        layers.Conv2D(32, 3, activation="relu"), layers.Dropout(0.2), layers.MaxPooling2D(2),
        layers.Flatten(), layers.Dense(32, activation="relu"), layers.Dense(1, activation="sigmoid"),
    ])


def deep_cnn():
    model = keras.Sequential([keras.Input((150, 150, 1))])
    for f in (32, 64, 128, 256):
        model.add(layers.Conv2D(f, 3, padding="same", activation="relu"))
        model.add(layers.Conv2D(f, 3, padding="same", activation="relu"))
        model.add(layers.MaxPooling2D(2))
    for layer in (layers.Flatten(), layers.Dense(256, activation="relu"), layers.Dropout(0.5),
                  layers.Dense(1, activation="sigmoid")):
        model.add(layer)
    return model


def vgg(filters):
    model = keras.Sequential([keras.Input((150, 150, 1))])
    for f in filters:
        for _ in range(2):
            model.add(layers.Conv2D(f, 3, padding="same"))
            model.add(layers.BatchNormalization())
            model.add(layers.ReLU())
        model.add(layers.MaxPooling2D(2))
    for layer in (layers.GlobalAveragePooling2D(), layers.Dense(128, activation="relu"), layers.Dropout(0.5),
                  layers.Dense(1, activation="sigmoid")):
        model.add(layer)
    return model


def xception_mini():
    inp = keras.Input((150, 150, 1))
    x = layers.Conv2D(32, 3, strides=2, padding="same", use_bias=False)(inp)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    for f in (64, 128, 256):
        shortcut = layers.Conv2D(f, 1, strides=2, padding="same")(x)
        y = layers.SeparableConv2D(f, 3, padding="same")(x)
        y = layers.BatchNormalization()(y)
        y = layers.ReLU()(y)
        y = layers.SeparableConv2D(f, 3, padding="same")(y)
        y = layers.BatchNormalization()(y)
        y = layers.MaxPooling2D(3, strides=2, padding="same")(y)
        x = layers.Add()([y, shortcut])
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.5)(x)
    return keras.Model(inp, layers.Dense(1, activation="sigmoid")(x))


def describe(model):
    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        shape = layer.output.shape
        rows.append({"class": type(layer).__name__, "output": [d for d in shape[1:]], "params": int(layer.count_params())})
    trainable = int(sum(int(tf.size(w)) for w in model.trainable_weights))
    total = int(model.count_params())
    return {"layers": rows, "total": total, "trainable": trainable}


def main():
    models = {
        "dense": dense(False), "dense-dropout": dense(True), "cnn": cnn(), "cnn150": cnn150(), "cnn128": cnn128(),
        "deep-cnn": deep_cnn(), "vgg3": vgg((32, 64, 128)), "vgg5": vgg((32, 64, 128, 256, 256)),
        "xception-mini": xception_mini(),
    }
    doc = {
        "generator": f"Tests/ReferenceScripts/seed_model_fixtures.py (keras {keras.__version__}, tensorflow {tf.__version__})",
        "models": {name: describe(m) for name, m in models.items()},
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    for name, m in doc["models"].items():
        print(name, m["total"], m["trainable"])


if __name__ == "__main__":
    main()
