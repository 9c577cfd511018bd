"""Sub-commands of the ``a2j`` command line; each module has add_arguments() and run()."""
