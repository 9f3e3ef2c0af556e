"""The exceptions the CLI turns into one ``error:`` line: a user's mistake, a failing env, a run that
diverged, a run that was interrupted."""


class UserError(Exception):
    """A mistake the user can fix (bad config, unknown env, missing file, ...).

    The CLI prints it as a single ``error: ...`` line on stderr and exits with code 2.
    """


class TrainingDiverged(Exception):
    """NaN or inf appeared in observations, rewards, losses or parameters.

    Training stops; the last good checkpoint is kept. The CLI prints one ``error: ...`` line, exit 1.
    """


class EnvError(UserError):
    """An env (the user's or a third party's) raised while being made, reset or stepped: one ``error:`` line
    that names the env, the call and the exception; the run keeps its last checkpoint."""


class RunFailed(Exception):
    """A training process ended without its result: killed (out of memory, say), or by an internal error,
    whose traceback the message carries. The CLI prints it after ``error:``, exit 1."""


class Interrupted(Exception):
    """Ctrl-C or SIGTERM stopped training. The message says what was saved and how to go on. Exit 130."""
