"""Stands in for an installed third-party library (django-countries, a library's abstract model).

The semantic tests never hand this package to qsfix: like a package in site-packages, the typing
sees only the names imported from it (`tests.reachlib.fields.CountryField`), not their source.
"""
