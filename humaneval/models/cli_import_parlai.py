"""`python -m humaneval.models import-parlai ZOO_DIR --out DIR`: ParlAI zoo folder -> runtime directory."""

from __future__ import annotations

import argparse
import logging
import sys
import time

from humaneval.input_errors import exit_on_input_error

DESCRIPTION = """\
Convert a ParlAI zoo folder into humaneval's runtime format, without ParlAI installed.

ZOO_DIR holds `model` (the torch checkpoint), `model.opt` and `model.dict` (+ `model.dict.codecs` for
`bpe` dictionaries, or `model.dict-vocab.json` + `model.dict-merges.txt` for `bytelevelbpe`).

  transformer/generator  variant xlm (Blender 90M)          -> Hugging Face BlenderbotSmall directory
                         variant prelayernorm (400M-9.4B)   -> Hugging Face Blenderbot directory
  transformer/classifier (BAD, sensitive topics, safety)    -> humaneval's native classifier directory

The checkpoint is read with a restricted unpickler: pickled classes other than tensors are stubbed and
only the weights are kept (no ParlAI or apex needed, no code from the file is run). The opt is checked
against the weights before anything is built (layer counts, widths, heads), and every tensor against the
model's shape; expanded or repeated tensor data is refused. The ParlAI options that decide the input
layout and decoding are saved as parlai_options.json. Output is written to a fresh hidden folder beside
DIR and renamed into place, so a failed or interrupted import leaves nothing behind; DIR may not be a
symbolic link.

Then add the directory to the registry (task_configs/models.yaml) under a name of your choice.
"""

EPILOG = """\
examples:
  python -m humaneval.models import-parlai ~/ParlAI/data/models/blender/blender_90M --out data/models/blender_90M
  python -m humaneval.models import-parlai zoo/bot_adversarial_dialogue/multi_turn --out data/models/bad_classifier

exit codes: 0 ok, 1 failure, 2 bad input (missing files, unsupported options; the message names them)
"""


@exit_on_input_error
def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m humaneval.models import-parlai",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("zoo_dir", metavar="ZOO_DIR", help="ParlAI zoo folder (or the path of its `model` file)")
    parser.add_argument("--out", required=True, metavar="DIR", help="runtime directory to create")
    parser.add_argument(
        "--model-name", default="model", help="name of the weights file inside ZOO_DIR (default: model; its opt is NAME.opt)"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace DIR if it exists and is not empty")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress (stubbed classes, key counts)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    from humaneval.models.parlai_import import import_parlai

    started = time.time()
    result = import_parlai(args.zoo_dir, args.out, model_name=args.model_name, overwrite=args.overwrite)
    print(
        f"imported {result.kind} {result.architecture}: {result.n_parameters:,} parameters, "
        f"vocabulary {result.vocab_size:,} -> {result.out_dir} ({time.time() - started:.1f} s)"
    )
    if result.kind == "generator":
        print(f"add it to the registry (task_configs/models.yaml): models: {{my_model: {{path: {result.out_dir}}}}}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
