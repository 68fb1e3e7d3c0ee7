"""Silencing C++ log lines written straight to file descriptor 2."""

import os

from mnist_course.quiet import silenced_stderr


def test_silenced_stderr_drops_fd2_output_and_restores_it(capfd):
    with silenced_stderr():
        os.write(2, b"noise from a C++ library\n")
    os.write(2, b"visible\n")
    assert capfd.readouterr().err == "visible\n"
