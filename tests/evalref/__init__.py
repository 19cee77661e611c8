"""Test-side references for the evaluation protocols and dataset generators.

``davis``: the DAVIS 2017 / 2016 evaluation written the way the official davis2017-evaluation code
computes it (float64 one-hot stacks, ``cv2.dilate`` with ``skimage.morphology.disk``, scipy's
``linear_sum_assignment``, the uint8 decay bins, pandas CSV writing). ``vos``: the vos-benchmark
and SA-V rules, driving the real ``vos_benchmark`` package's per-frame ``Evaluator``. ``gen``:
synthetic DAVIS / SA-V layouts with the awkward cases (late, vanishing and reappearing objects,
void regions, missing objects, odd widths).
"""
