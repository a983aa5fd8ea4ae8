"""The one exception type users see: raised for bad input, printed by the CLI as a single line."""


class EdgewatchError(Exception):
    """Bad input (missing file, wrong config key, mismatched ONNX...): the message is the whole report."""
