"""Pure numeric methods (numpy/scipy). Nothing here imports the rest of carepool."""

from carepool.stats.life_table import LifeTable, abridged_life_expectancy
from carepool.stats.rounding import largest_remainder

__all__ = ["LifeTable", "abridged_life_expectancy", "largest_remainder"]
