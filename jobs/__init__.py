"""tongbi (同比): year-over-year comparison of Chinese public bodies' yearly work summaries."""

__version__ = "0.1.0"
