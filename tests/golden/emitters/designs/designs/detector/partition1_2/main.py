half 2
