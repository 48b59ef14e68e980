"""The built-in contenders, one module per toolkit; each defines ``CONTENDER``
(a :class:`dicomfast.benchmark.registry.Contender`).  Modules import their
toolkit only inside the builders, so listing them is cheap."""
