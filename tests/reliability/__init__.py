"""A hostile user's cases, kept: one writer per run directory, finished runs left as they are,
sealed settings, bad values, full and unwritable disks, failed starts that leave nothing.
Each test asserts the exit code, the one line and the files on disk."""
