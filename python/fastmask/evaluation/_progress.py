"""Progress reporting over the videos of a dataset protocol: a tqdm bar on stderr, a user
callback ``(done, total)``, or nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

Progress = bool | Callable[[int, int], None]


def track(names: Sequence[str], progress: Progress, desc: str) -> Iterator[str]:
    """Yield ``names``, reporting each one done as ``progress`` asks."""
    total = len(names)
    if progress is True:
        from tqdm import tqdm  # type: ignore[import-untyped]

        with tqdm(total=total, unit="video", desc=desc, leave=False) as bar:
            for name in names:
                yield name
                bar.update(1)
    elif callable(progress):
        for done, name in enumerate(names, 1):
            yield name
            progress(done, total)
    else:
        yield from names
