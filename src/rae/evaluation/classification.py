"""%Err: how linearly the latent code separates the classes.

The paper's classifier is a "maximum entropy" model, i.e. multinomial logistic
regression, fitted on the training latents. Standardizing the latents first keeps
lbfgs well conditioned whatever the latent activation's scale.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def classification_error(z_train, y_train, z_test, y_test, *, seed, max_iter=1000):
    """Test error in percent, 100 * (1 - accuracy)."""
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter, random_state=seed))
    model.fit(np.asarray(z_train, dtype=np.float64), np.asarray(y_train))
    accuracy = model.score(np.asarray(z_test, dtype=np.float64), np.asarray(y_test))
    return 100.0 * (1.0 - accuracy)
