"""ic — inverse classification with generative models.

The library behind the Jupyter Book: data loaders (:mod:`ic.data`), the results store and job runner
(:mod:`ic.store`, :mod:`ic.runner`), the generic inverse-classification engine (:mod:`ic.engine`) and one
sub-package per study (:mod:`ic.lstm`, ...). Notebooks only set parameters and call into this package.
"""

__version__ = "0.1.0"
