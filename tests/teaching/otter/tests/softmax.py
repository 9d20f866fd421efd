"""An otter-grader test of the softmax exercise.

It is written in otter's exception-based format.
"""
from otter.test_files import test_case

OK_FORMAT = False

name = "softmax"
points = 3


@test_case(points=3, hidden=False)
def test_softmax(softmax):
    # The test's argument is the notebook's own softmax, found by its name.
    from backprop.exercises import check

    feedback = check("softmax", softmax)
    assert feedback.passed, str(feedback)
