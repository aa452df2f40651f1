"""Numpy golden models of the int8 network layers, the IMA's exact MVM, the
MobileNetV2 network and the IMA weight mapping (Tile&Pack).

Modules: :mod:`.quant` (activation format, requantization), :mod:`.layers`
(golden int8 layers), :mod:`.ima_model` (exact and noisy IMA MVM),
:mod:`.mobilenetv2` (layer list, parameters, forward passes), :mod:`.mapping`
(crossbar tiling and packing, firmware layer table).
"""
