"""An nbgrader course whose one assignment, backprop, is graded by backprop's checker."""
c = get_config()  # noqa: F821

c.CourseDirectory.course_id = "backprop"
