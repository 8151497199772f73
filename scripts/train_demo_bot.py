"""Train the bundled demo bot: a tiny Blenderbot on the BSD-licensed chatterbot-corpus (English).

Why it exists: no package ships a generative dialogue model and nothing may be downloaded at run time, yet
every CLI, the server and the crowd tasks need a bot that answers something sensible on a fresh machine.
This is that bot. It is small and knows only the chatterbot small talk; it is NOT BlenderBot and must never
be reported as one (see humaneval/models/demo_bot/MODEL_CARD.md).

Reproduce the committed weights (seeded; ~10 minutes on 2 idle CPU cores, 0.4 s/step):

    .venv/bin/python scripts/train_demo_bot.py --out humaneval/models/demo_bot

The output is a normal runtime directory (Hugging Face files + parlai_options.json), loaded by the same
code path as an imported ParlAI checkpoint.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from humaneval.models.model_input import ContextEncoder, InputOptions, write_parlai_options  # noqa: E402
from humaneval.models.reply_model import DialogueContext  # noqa: E402

SPECIALS = ["<pad>", "<s>", "</s>", "<unk>", "<mask>"]  # ids 0..4: pad, start, end, unk as in ParlAI/HF
MAX_CONTEXT_TURNS = 3

# The demo bot's input layout and decoding, recorded in the ParlAI vocabulary so one loader serves all.
DEMO_OPT = {
    "dict_tokenizer": "bytelevelbpe",
    "dict_lower": False,
    "delimiter": "\n",
    "text_truncate": 128,
    "label_truncate": 64,
    "history_add_global_end_token": "end",
    "inference": "beam",
    "beam_size": 10,
    "beam_min_length": 1,  # chatterbot answers are short; Blender's 20 would force rambling
    "beam_block_ngram": 3,
    "beam_context_block_ngram": 3,  # as Blender; without it self-chats copy the partner's last line forever
    "beam_length_penalty": 0.65,
}


def load_corpus(language: str = "english") -> list[list[str]]:
    """Every conversation of the chatterbot corpus as a list of utterances."""
    import chatterbot_corpus

    data_dir = Path(chatterbot_corpus.__file__).parent / "data" / language
    conversations: list[list[str]] = []
    for path in sorted(data_dir.glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for convo in doc.get("conversations") or []:
            turns = [str(t).strip() for t in convo if t is not None and str(t).strip()]
            if len(turns) >= 2:
                conversations.append(turns)
    return conversations


def examples(conversations: list[list[str]]) -> list[tuple[tuple[str, ...], str]]:
    """(context turns, reply) for every reply in every conversation."""
    out = []
    for turns in conversations:
        for i in range(1, len(turns)):
            out.append((tuple(turns[max(0, i - MAX_CONTEXT_TURNS) : i]), turns[i]))
    return out


def train_tokenizer(conversations: list[list[str]], out: Path, vocab_size: int) -> None:
    """Byte-level BPE (as Blender 2.7B uses) with ParlAI's special ids written as HF names."""
    from tokenizers import ByteLevelBPETokenizer

    tok = ByteLevelBPETokenizer(add_prefix_space=True)
    texts = [t for convo in conversations for t in convo]
    tok.train_from_iterator(texts, vocab_size=vocab_size, min_frequency=2, special_tokens=SPECIALS, show_progress=False)
    tok.save_model(str(out))
    (out / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "BlenderbotTokenizer",
                "add_prefix_space": True,
                "bos_token": "<s>",
                "eos_token": "</s>",
                "pad_token": "<pad>",
                "unk_token": "<unk>",
                "mask_token": "<mask>",
                "model_max_length": 128,
            },
            indent=2,
        )
        + "\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "humaneval" / "models" / "demo_bot")
    parser.add_argument("--steps", type=int, default=1500, help="optimizer steps (default 1500)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--vocab-size", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    import os

    os.environ["HF_HUB_OFFLINE"] = "1"
    from transformers import AutoTokenizer, BlenderbotConfig, BlenderbotForConditionalGeneration

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    started = time.time()

    conversations = load_corpus()
    pairs = examples(conversations)
    print(f"corpus: {len(conversations)} conversations, {len(pairs)} (context, reply) pairs")

    work = Path(tempfile.mkdtemp(prefix="demo_bot."))
    train_tokenizer(conversations, work, args.vocab_size)
    tokenizer = AutoTokenizer.from_pretrained(str(work), local_files_only=True)
    vocab_size = len(json.loads((work / "vocab.json").read_text()))
    encoder = ContextEncoder(tokenizer, InputOptions.from_parlai_opt(DEMO_OPT), eos_id=2)

    data = [(encoder.encode(DialogueContext(turns=ctx)), encoder.encode_label(reply)) for ctx, reply in pairs]
    config = BlenderbotConfig(
        vocab_size=vocab_size,
        d_model=256,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=1024,
        decoder_ffn_dim=1024,
        max_position_embeddings=128,
        activation_function="gelu",
        dropout=0.1,
        attention_dropout=0.0,
        activation_dropout=0.0,
        scale_embedding=True,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=1,
        forced_eos_token_id=None,
    )
    model = BlenderbotForConditionalGeneration(config)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params / 1e6:.2f}M parameters, vocab {vocab_size}")

    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warmup = max(1, args.steps // 20)

    def lr_at(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, args.steps - warmup)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_at)
    rng = random.Random(args.seed)
    order: list[int] = []
    model.train()
    for step in range(args.steps):
        if len(order) < args.batch_size:
            order = list(range(len(data)))
            rng.shuffle(order)
        batch = [data[order.pop()] for _ in range(args.batch_size)]
        src_len = max(len(x) for x, _ in batch)
        tgt_len = max(len(y) for _, y in batch)
        input_ids = torch.zeros(len(batch), src_len, dtype=torch.long)
        attention = torch.zeros(len(batch), src_len, dtype=torch.long)
        labels = torch.full((len(batch), tgt_len), -100, dtype=torch.long)
        for row, (x, y) in enumerate(batch):
            input_ids[row, : len(x)] = torch.tensor(x)
            attention[row, : len(x)] = 1
            labels[row, : len(y)] = torch.tensor(y)
        loss = model(input_ids=input_ids, attention_mask=attention, labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        if step % 50 == 0 or step == args.steps - 1:
            print(f"step {step:5d}  loss {loss.item():.3f}  {time.time() - started:6.0f}s", flush=True)

    model.eval()
    args.out.mkdir(parents=True, exist_ok=True)
    # fp16 on disk halves the committed size; the loader casts to the registry's dtype.
    model.half().save_pretrained(str(args.out), safe_serialization=True)
    for name in ("vocab.json", "merges.txt", "tokenizer_config.json"):
        shutil.copy(work / name, args.out / name)
    shutil.rmtree(work, ignore_errors=True)
    write_parlai_options(args.out, DEMO_OPT, source="scripts/train_demo_bot.py (chatterbot-corpus, not a ParlAI model)")
    info = {
        "parameters": n_params,
        "steps": args.steps,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "seed": args.seed,
        "vocab_size": vocab_size,
        "final_loss": round(loss.item(), 4),
        "training_seconds": round(time.time() - started, 1),
        "torch": torch.__version__,
    }
    (args.out / "training_info.json").write_text(json.dumps(info, indent=2) + "\n")
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
