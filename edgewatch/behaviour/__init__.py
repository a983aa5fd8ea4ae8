"""The temporal behaviour model: taxonomy, features, models, data, training and evaluation."""
