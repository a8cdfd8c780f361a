"""A small shop app: the code the qsfix README runs on."""
