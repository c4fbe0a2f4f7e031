"""Questions from the user's documents (RAG evaluation sets): conversion, passages, coverage."""
