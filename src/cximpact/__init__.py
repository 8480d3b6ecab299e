"""cximpact: what customer-service problems cost your future."""

__version__ = "0.1.0"
__all__ = ["__version__"]
