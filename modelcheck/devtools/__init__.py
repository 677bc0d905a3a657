"""Developer tools: benchmarks, the soak, the random-spec generator, the docs generator."""
