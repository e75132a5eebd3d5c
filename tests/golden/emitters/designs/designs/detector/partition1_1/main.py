half 1
