from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Benchmark tooling (`manage.py seed_scale`): installed with the simulator, never in production."""

    name = "bench"
    verbose_name = "Benchmarks"
