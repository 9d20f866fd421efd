"""Correct working passes, whichever way it goes; the known cheats still fail.

Each derivation exercise has a catalogue of correct derivations that differ from its
reference solution: factored or expanded, in the other variable, with a named quantity
(``delta1``, ``a``, ``yhat1``) written out as what it stands for, through the quotient rule,
or with the chain rule's smaller derivative still to be taken. A teacher who grades with the
checker must never mark one of them wrong. The cheats are the result dressed up as working:
plus zero, times one, a step repeated, or the start in other names.
"""

import pytest

from backprop.exercises import EXERCISES, check

SIGMOID = "1/(1 + exp(-z))"
IMPROVED = "1.7159*tanh(2*z/3)"

CORRECT = {
    "derive-sigmoid-derivative": {
        "a written out": [f"{SIGMOID}*(1 - {SIGMOID})", "a*(1 - a)"],
        "quotient rule": ["((1 + exp(-z))*0 - 1*(-exp(-z)))/(1 + exp(-z))**2",
                          "exp(-z)/(1 + exp(-z))**2", "a*(1 - a)"],
        "in exp(z)": ["diff(exp(z)/(exp(z) + 1), z)", "exp(z)/(exp(z) + 1)**2",
                      "a*(1 - a)"],
        "expanded": ["exp(-z)/(1 + exp(-z))**2", f"{SIGMOID} - {SIGMOID}**2", "a - a**2"],
        "factored at the end": ["exp(-z)/(1 + exp(-z))**2", "a - a**2", "a*(1 - a)"],
        "chain rule left": ["-(1 + exp(-z))**-2*diff(1 + exp(-z), z)",
                            "exp(-z)*(1 + exp(-z))**-2", "a*(1 - a)"],
    },
    "derive-output-delta": {
        "yhat1 written out": ["exp(z1)/(exp(z1) + exp(z2) + exp(z3)) - y1", "yhat1 - y1"],
        "log of the softmax": [
            "diff(-(y1*(z1 - log(exp(z1) + exp(z2) + exp(z3))) + y2*(z2 - log(exp(z1) "
            "+ exp(z2) + exp(z3))) + y3*(z3 - log(exp(z1) + exp(z2) + exp(z3)))), z1)",
            "-y1 + (y1 + y2 + y3)*exp(z1)/(exp(z1) + exp(z2) + exp(z3))",
            "yhat1 - y1"],
        "targets summed": ["-y1*(1 - yhat1) + y2*yhat1 + y3*yhat1",
                           "yhat1*(y1 + y2 + y3) - y1", "yhat1 - y1"],
        "y3 written out": ["-y1*(1 - yhat1) + y2*yhat1 + (1 - y1 - y2)*yhat1",
                           "yhat1 - y1"],
    },
    "derive-hidden-update": {
        "factored": ["((yhat1 - y1)*w2_11 + (yhat2 - y2)*w2_21)*a1*(1 - a1)*x1",
                     "delta1*x1"],
        "the chain through z1": [
            "((yhat1 - y1)*w2_11 + (yhat2 - y2)*w2_21)*diff(1/(1 + exp(-w1_11*x1 "
            "- w1_12*x2)), w1_11)",
            "delta1*x1"],
        "sigmoid's slope in exponentials": [
            "((yhat1 - y1)*w2_11 + (yhat2 - y2)*w2_21)*exp(-z1)/(1 + exp(-z1))**2*x1",
            "delta1*x1"],
        "two targets as one": [
            "((yhat1 - y1)*w2_11 + (y1 - yhat1)*w2_21)*a1*(1 - a1)*x1", "delta1*x1"],
    },
    "derive-squared-error-delta": {
        "chain rule left": ["(yhat - y)*diff(yhat, z)", "(yhat - y)*yhat*(1 - yhat)"],
        "expanded": ["(yhat - y)*(yhat - yhat**2)", "(yhat - y)*yhat*(1 - yhat)"],
        "in z": ["(1/(1 + exp(-z)) - y)*exp(-z)/(1 + exp(-z))**2",
                 "(yhat - y)*yhat*(1 - yhat)"],
    },
    "derive-batch-gradient": {
        "deltas written out": ["((yhat11 - y11)*a11 + (yhat21 - y21)*a21)/2",
                               "(delta11*a11 + delta21*a21)/2"],
        "per sample": ["(yhat11 - y11)*a11/2 + (yhat21 - y21)*a21/2",
                       "delta11*a11/2 + delta21*a21/2"],
        "the mean of the gradients": [
            "((-y11*(1 - yhat11) + y12*yhat11)*a11 + (-y21*(1 - yhat21) + y22*yhat21)*a21)/2",
            "(delta11*a11 + delta21*a21)/2"],
    },
    "derive-improved-sigmoid-derivative": {
        "chain rule": ["1.7159*2/3*(1 - tanh(2*z/3)**2)", "2/3*(1.7159 - a**2/1.7159)"],
        "tanh in exponentials": [
            "diff(1.7159*(exp(4*z/3) - 1)/(exp(4*z/3) + 1), z)",
            "1.7159*2/3*(1 - tanh(2*z/3)**2)", "2/3*(1.7159 - a**2/1.7159)"],
        "a squared over A": [f"2/3*1.7159*(1 - ({IMPROVED})**2/1.7159**2)",
                             "2/3*1.7159*(1 - a**2/1.7159**2)"],
    },
    "derive-momentum-series": {
        "unrolled at once": ["g + gamma*g + gamma**2*g + gamma**3*g",
                             "g*(1 - gamma**4)/(1 - gamma)"],
        "one v at a time": ["g + gamma*(g + gamma*v2)",
                            "g + gamma*(g + gamma*(g + gamma*v1))",
                            "g + gamma*(g + gamma*(g + gamma*g))",
                            "g*(1 - gamma**4)/(1 - gamma)"],
        "factored in pairs": ["g*(1 + gamma)*(1 + gamma**2)",
                              "g*(1 - gamma**4)/(1 - gamma)"],
    },
}

CHEATS = {
    "derive-sigmoid-derivative": {
        "plus zero": ["a*(1 - a) + 0", "a*(1 - a)"],
        "times one": ["a*(1 - a)*1", "a*(1 - a)"],
        "times (z + 1)/(z + 1)": ["a*(1 - a)*(z + 1)/(z + 1)", "a*(1 - a)"],
        "times (z**2 - 1)/((z - 1)*(z + 1))": ["a*(1 - a)*(z**2 - 1)/((z - 1)*(z + 1))",
                                               "a*(1 - a)"],
        "plus z - z": ["a*(1 - a) + z - z", "a*(1 - a)"],
        "reordered": ["(1 - a)*a", "a*(1 - a)"],
        "a step repeated": ["exp(-z)/(1 + exp(-z))**2", "exp(-z)/(1 + exp(-z))**2",
                            "a*(1 - a)"],
        "the start, then the result": ["diff(1/(1 + exp(-z)), z)", "a*(1 - a)"],
        "the start in other names": ["-diff(-a, z)", "a*(1 - a)"],
        "plus a name minus its meaning": [f"a*(1 - a) + a - {SIGMOID}", "a*(1 - a)"],
        "times a name over its meaning": [f"a*(1 - a)*a/({SIGMOID})", "a*(1 - a)"],
        "times z/z in a name the result does not use": ["(a*z - a**2*z)/z", "a*(1 - a)"],
        "the result alone": ["a*(1 - a)"],
    },
    "derive-output-delta": {
        "plus zero": ["yhat1 - y1 + 0*z1", "yhat1 - y1"],
        "the result alone": ["yhat1 - y1"],
        "times yhat1/yhat1": ["(yhat1**2 - yhat1*y1)/yhat1", "yhat1 - y1"],
    },
    "derive-hidden-update": {
        "plus zero": ["x1*delta1 + 0*x1", "delta1*x1"],
        "plus a name minus its meaning": ["delta1*x1 + a1 - 1/(1 + exp(-z1))", "delta1*x1"],
        "plus delta1 - delta1": ["delta1*(x1 + 1) - delta1", "delta1*x1"],
        "the result alone": ["delta1*x1"],
    },
    "derive-improved-sigmoid-derivative": {
        "the result alone": ["2/3*(1.7159 - a**2/1.7159)"],
    },
    "derive-batch-gradient": {
        "the result alone": ["(delta11*a11 + delta21*a21)/2"],
    },
    "derive-momentum-series": {
        "the start, then the result": ["g + gamma*v3", "g*(1 - gamma**4)/(1 - gamma)"],
        "times (1 - gamma)/(1 - gamma)": [
            "g*(1 - gamma**4)/(1 - gamma)*(1 - gamma)/(1 - gamma)",
            "g*(1 - gamma**4)/(1 - gamma)"],
    },
}


def _cases(table):
    return [pytest.param(name, steps, id=f"{name}: {label}")
            for name, alternatives in table.items() for label, steps in alternatives.items()]


def test_every_derivation_exercise_has_three_alternatives():
    derivations = {name for name, exercise in EXERCISES.items()
                   if exercise.kind == "derivation"}
    assert derivations == set(CORRECT)
    assert all(len(alternatives) >= 3 for alternatives in CORRECT.values())


@pytest.mark.parametrize(("name", "steps"), _cases(CORRECT))
def test_a_correct_alternative_derivation_passes(name, steps):
    feedback = check(name, steps)
    assert feedback.passed, feedback.message


@pytest.mark.parametrize(("name", "steps"), _cases(CHEATS))
def test_the_result_dressed_as_working_fails(name, steps):
    feedback = check(name, steps)
    assert not feedback.passed
    assert "Show your working" in feedback.message or "repeats step" in feedback.message
