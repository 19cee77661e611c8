"""Type stubs for the compiled module ``fastmask._fastmask`` (checked by mypy.stubtest)."""

__version__: str

class PngError(ValueError):
    """Malformed, unsupported or over-limit PNG data."""

class RleError(ValueError):
    """Malformed COCO RLE data."""

class EvaluationError(ValueError):
    """A dataset or result folder that cannot be evaluated as asked."""

# --- PNG codec -----------------------------------------------------------------------------



# --- COCO RLE ------------------------------------------------------------------------------



# --- metrics -------------------------------------------------------------------------------



# --- evaluation ----------------------------------------------------------------------------
