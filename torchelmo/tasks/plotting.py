"""The learning-curve figure of a training run (PNG, via matplotlib)."""
import logging
from typing import Dict, List

from ..files import atomic_file

logger = logging.getLogger(__name__)


def plot_learning_curves(history: List[Dict[str, float]], metric: str, path: str) -> bool:
    """Loss (train, validation) and the validation ``metric`` per epoch, side by side.

    Returns ``False`` (and logs why) when matplotlib is not installed.
    """
    try:
        import matplotlib
        matplotlib.use("Agg")
        from matplotlib import pyplot
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        logger.warning("matplotlib is not installed: no learning-curve plot (pip install 'torchelmo[tasks]')")
        return False
    epochs = [h["epoch"] for h in history]
    figure, (loss_axes, metric_axes) = pyplot.subplots(1, 2, figsize=(9, 3.5))
    loss_axes.plot(epochs, [h["train_loss"] for h in history], marker="o", label="train")
    loss_axes.plot(epochs, [h["validation_loss"] for h in history], marker="o", label="validation")
    loss_axes.set(xlabel="epoch", ylabel="loss", title="loss")
    loss_axes.legend()
    metric_axes.plot(epochs, [h[f"validation_{metric}"] for h in history], marker="o", color="C2")
    metric_axes.set(xlabel="epoch", ylabel=metric, title=f"validation {metric}")
    for axes in (loss_axes, metric_axes):
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    with atomic_file(path, "wb") as f:
        figure.savefig(f, format="png", dpi=100)
    pyplot.close(figure)
    return True
