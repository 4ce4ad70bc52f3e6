"""Helpers for trial code (NNI 2.x ``nni.utils``)."""

__all__ = ["merge_parameter"]


def merge_parameter(base_params, override_params):
    """Update ``base_params`` in place with the tuner's ``override_params`` and return it.

    ``base_params`` is a dict or an ``argparse.Namespace`` (any object with attributes);
    ``override_params`` is the dict from ``nni.get_next_parameter()``. When it is None,
    ``base_params`` comes back unchanged. Every key of ``override_params`` must already be
    in ``base_params`` (``ValueError: Key 'x' not found in base parameters.``), and each
    value must have the base value's type: an int is accepted (as a float) where the base
    is a float, anything is accepted where the base is None; any other mismatch raises
    ``ValueError``.
    """
    if override_params is None:
        return base_params
    as_dict = isinstance(base_params, dict)
    for key, value in override_params.items():
        if as_dict:
            if key not in base_params:
                raise ValueError("Key '%s' not found in base parameters." % key)
            base_params[key] = _compatible(key, base_params[key], value)
        else:
            if not hasattr(base_params, key):
                raise ValueError("Key '%s' not found in base parameters." % key)
            setattr(base_params, key, _compatible(key, getattr(base_params, key), value))
    return base_params


def _compatible(key, base, value):
    """``value`` as it may replace ``base`` (NNI's rules), or ValueError."""
    if base is None or isinstance(value, type(base)):
        return value
    if isinstance(base, float) and isinstance(value, int):
        return float(value)
    raise ValueError('Expected "%s" in override parameters to have type %s, but found %s'
                     % (key, type(base).__name__, type(value).__name__))
