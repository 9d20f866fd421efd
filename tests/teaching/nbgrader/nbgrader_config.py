"""An nbgrader course of one assignment, backprop.

Its autograded cells call backprop's checker.
"""
c = get_config()  # noqa: F821

c.CourseDirectory.course_id = "backprop"
