"""Lesson 05-update-rule: how the grader calls your training loop."""

import numpy as np

from bplib.train import predict


def probe_train(train, X_train, y_train, X_test, epochs, batch_size, learning_rate, seed):
    """Train with the learner's loop, then predict the classes of the held-out points."""
    try:
        model = train(X_train, y_train, epochs=epochs, batch_size=batch_size,
                      learning_rate=learning_rate, rng=seed)
    except FloatingPointError as error:  # raised by a Linear layer that sees inf/NaN
        raise FloatingPointError(
            f"the weights blew up during training ({str(error).split('. ')[0]}). With these settings "
            "a correct loop does not diverge: does the update step AGAINST the gradient, "
            "param - learning_rate * grad?") from None
    if not hasattr(model, "forward"):
        raise TypeError(f"train must return the trained model (the Sequential it built), got "
                        f"{type(model).__name__}")
    with np.errstate(all="ignore"):
        return predict(model, X_test)
