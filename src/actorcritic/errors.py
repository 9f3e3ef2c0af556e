"""The one exception type for mistakes a user can fix, and the one for a run that diverged."""


class UserError(Exception):
    """A mistake the user can fix (bad config, unknown env, missing file, ...).

    The CLI prints it as a single ``error: ...`` line on stderr and exits with code 2.
    """


class TrainingDiverged(Exception):
    """NaN or inf appeared in observations, rewards, losses or parameters.

    Training stops; the last good checkpoint is kept. The CLI prints one ``error: ...`` line, exit 1.
    """
