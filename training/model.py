"""The paper's Tiny VGG in Keras, with the paper's layer names (conv_1_1, relu_1_1, …, max_pool_2, output)."""
from __future__ import annotations

import keras

ARCHITECTURE = "Tiny VGG: 2 × (conv 3×3/10 valid + ReLU, conv 3×3/10 valid + ReLU, max-pool 2×2), flatten, dense softmax"


def tiny_vgg(input_shape=(64, 64, 3), num_classes=10, filters=10) -> keras.Sequential:
    """Separate Activation layers, so cnn101 shows relu_1_1 …; the dense 'output' keeps its fused softmax
    (cnn101 splits it into 'output' (logits) and 'output_softmax')."""
    layers = [keras.Input(shape=input_shape)]
    for block in (1, 2):
        for conv in (1, 2):
            layers.append(keras.layers.Conv2D(filters, 3, padding="valid", name=f"conv_{block}_{conv}"))
            layers.append(keras.layers.Activation("relu", name=f"relu_{block}_{conv}"))
        layers.append(keras.layers.MaxPooling2D(2, name=f"max_pool_{block}"))
    layers += [keras.layers.Flatten(name="flatten"),
               keras.layers.Dense(num_classes, activation="softmax", name="output")]
    return keras.Sequential(layers, name="tiny_vgg")
