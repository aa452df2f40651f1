"""The cycle model: what each instruction, memory access and wait costs."""
