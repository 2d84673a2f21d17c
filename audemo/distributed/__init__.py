r"""Processing on a Dask cluster (needs the ``dask`` extra)."""

from audemo.core.distributed import process_index
