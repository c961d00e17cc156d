"""The TensorFlow pipeline that trains the shipped Tiny VGG (weights/) — not part of the cnn101 package.

    python -m training.prepare_data --source tiny-imagenet-200.zip --out DIR   # build tiny-imagenet-10
    python -m training.train --seed 0 --out runs/seed0                          # one run (~5–10 min CPU)
    python -m training.export runs/seed0 runs/seed1 runs/seed2 --to weights     # ship the best by cnnx_val

Modules: data (decoded arrays and augmentation, NumPy), model (the Keras Tiny VGG), train (the run),
export (Keras → cnn101 engine → weights/ and TF.js), prepare_data (official zip → tiny-imagenet-10).
"""
