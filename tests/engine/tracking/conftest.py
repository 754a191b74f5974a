"""The pipeline rig of the pipeline tests, for judging real clips end to end."""

from tests.engine.pipeline.conftest import _tcp_sockets, pipeline_rig  # noqa: F401
