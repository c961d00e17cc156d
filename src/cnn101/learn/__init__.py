"""Training with the engine's exact gradients (`model.backward`): optimizers that update weights in place,
seeded re-initialisation, a new output layer for your own classes, frozen layers.

    from cnn101 import learn
    loss = learn.sgd_step(model, xs, ys, lr=0.01)          # one plain SGD step, loss before it
    opt = learn.Adam(1e-3); opt.step(model, xs, ys)        # as keras.optimizers.Adam
    head = learn.replace_output(model, ["cat", "dog"]); learn.freeze(head)   # fine-tune the head only
    history = learn.fit(head, xs, ys, learn.Adam(1e-3), epochs=5, batch_size=16, validation=(xv, yv))
"""
from .loop import History, evaluate, fit
from .optimizers import SGD, Adam, Optimizer, TrainingError, gradients, is_frozen, sgd_step
from .session import Session, copy_weights, holdout
from .setup import freeze, glorot_uniform, logits_dense, reinitialize, replace_output

__all__ = ["fit", "evaluate", "History", "sgd_step", "SGD", "Adam", "Optimizer", "TrainingError", "gradients", "is_frozen", "freeze",
           "glorot_uniform", "logits_dense", "reinitialize", "replace_output",
           "Session", "copy_weights", "holdout"]
