//! A product catalogue: product kinds with features, brands, and names and
//! descriptions in English, Turkish, Russian and Chinese.

use rand::Rng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

/// One product kind: English noun phrase, features, translations.
struct Kind {
    category: &'static str,
    noun: &'static str,
    features: &'static [&'static str],
    price: (f64, f64),
    /// (Turkish, Russian, Chinese) names.
    translated: (&'static str, &'static str, &'static str),
}

const KINDS: &[Kind] = &[
    Kind {
        category: "Electronics",
        noun: "Wireless Noise-Cancelling Headphones",
        features: &[
            "active noise cancellation that blocks out engine and office noise",
            "40-hour battery life",
            "Bluetooth 5.3 with multipoint pairing",
            "plush over-ear cushions for all-day comfort",
            "built-in microphones for clear calls",
        ],
        price: (79.0, 449.0),
        translated: (
            "Kablosuz Gürültü Önleyici Kulaklık",
            "Беспроводные наушники с шумоподавлением",
            "无线降噪耳机",
        ),
    },
    Kind {
        category: "Electronics",
        noun: "True Wireless Earbuds",
        features: &[
            "compact charging case",
            "sweat-resistant for workouts",
            "touch controls",
            "transparency mode",
            "low-latency gaming mode",
        ],
        price: (29.0, 249.0),
        translated: (
            "Gerçek Kablosuz Kulak İçi Kulaklık",
            "Полностью беспроводные наушники-вкладыши",
            "真无线蓝牙耳塞",
        ),
    },
    Kind {
        category: "Electronics",
        noun: "Smartphone",
        features: &[
            "6.7-inch OLED display",
            "triple camera with night mode",
            "5G connectivity",
            "fast charging",
            "256 GB storage",
        ],
        price: (199.0, 1299.0),
        translated: ("Akıllı Telefon", "Смартфон", "智能手机"),
    },
    Kind {
        category: "Electronics",
        noun: "Ultrabook Laptop",
        features: &[
            "14-inch high-resolution screen",
            "all-day battery",
            "backlit keyboard",
            "lightweight aluminium body",
            "16 GB RAM",
        ],
        price: (599.0, 2199.0),
        translated: (
            "Ultra İnce Dizüstü Bilgisayar",
            "Ультрабук",
            "超薄笔记本电脑",
        ),
    },
    Kind {
        category: "Electronics",
        noun: "Smartwatch",
        features: &[
            "heart-rate and sleep tracking",
            "GPS for runs",
            "water resistant to 50 m",
            "always-on display",
            "contactless payments",
        ],
        price: (99.0, 799.0),
        translated: ("Akıllı Saat", "Умные часы", "智能手表"),
    },
    Kind {
        category: "Electronics",
        noun: "Portable Bluetooth Speaker",
        features: &[
            "waterproof for the beach and pool",
            "deep bass",
            "12-hour playtime",
            "pair two speakers for stereo",
        ],
        price: (39.0, 299.0),
        translated: (
            "Taşınabilir Bluetooth Hoparlör",
            "Портативная Bluetooth-колонка",
            "便携式蓝牙音箱",
        ),
    },
    Kind {
        category: "Electronics",
        noun: "4K Smart TV",
        features: &[
            "55-inch 4K HDR panel",
            "built-in streaming apps",
            "voice remote",
            "low input lag for consoles",
        ],
        price: (349.0, 2499.0),
        translated: ("4K Akıllı Televizyon", "Смарт-телевизор 4K", "4K智能电视"),
    },
    Kind {
        category: "Electronics",
        noun: "Mirrorless Camera",
        features: &[
            "24-megapixel sensor",
            "4K video",
            "in-body stabilisation",
            "interchangeable lenses",
        ],
        price: (499.0, 2999.0),
        translated: (
            "Aynasız Fotoğraf Makinesi",
            "Беззеркальная камера",
            "无反相机",
        ),
    },
    Kind {
        category: "Home & Kitchen",
        noun: "Espresso Machine",
        features: &[
            "15-bar pump for rich crema",
            "steam wand for milk foam",
            "removable water tank",
            "stainless steel housing",
        ],
        price: (89.0, 899.0),
        translated: ("Espresso Makinesi", "Эспрессо-машина", "意式咖啡机"),
    },
    Kind {
        category: "Home & Kitchen",
        noun: "Air Fryer",
        features: &[
            "crispy results with little oil",
            "5.5-litre basket",
            "digital presets",
            "dishwasher-safe parts",
        ],
        price: (49.0, 249.0),
        translated: ("Yağsız Fritöz", "Аэрогриль", "空气炸锅"),
    },
    Kind {
        category: "Home & Kitchen",
        noun: "Robot Vacuum Cleaner",
        features: &[
            "laser navigation and room mapping",
            "automatic dirt disposal",
            "app scheduling",
            "mopping mode",
        ],
        price: (149.0, 999.0),
        translated: ("Robot Süpürge", "Робот-пылесос", "扫地机器人"),
    },
    Kind {
        category: "Home & Kitchen",
        noun: "High-Speed Blender",
        features: &[
            "1200 W motor",
            "smoothies and crushed ice",
            "BPA-free jug",
            "pulse function",
        ],
        price: (39.0, 499.0),
        translated: ("Yüksek Hızlı Blender", "Мощный блендер", "高速搅拌机"),
    },
    Kind {
        category: "Home & Kitchen",
        noun: "Non-Stick Cookware Set",
        features: &[
            "ten pieces",
            "induction compatible",
            "oven safe to 220 °C",
            "glass lids",
        ],
        price: (59.0, 399.0),
        translated: (
            "Yapışmaz Tencere Seti",
            "Набор посуды с антипригарным покрытием",
            "不粘锅具套装",
        ),
    },
    Kind {
        category: "Fashion",
        noun: "Running Shoes",
        features: &[
            "responsive foam cushioning",
            "breathable mesh upper",
            "durable rubber outsole",
            "reflective details for night runs",
        ],
        price: (49.0, 219.0),
        translated: ("Koşu Ayakkabısı", "Кроссовки для бега", "跑步鞋"),
    },
    Kind {
        category: "Fashion",
        noun: "Leather Jacket",
        features: &[
            "genuine lambskin leather",
            "quilted lining",
            "zip pockets",
            "slim fit",
        ],
        price: (129.0, 699.0),
        translated: ("Deri Ceket", "Кожаная куртка", "皮夹克"),
    },
    Kind {
        category: "Fashion",
        noun: "Travel Backpack",
        features: &[
            "padded laptop sleeve",
            "water-repellent fabric",
            "carry-on size",
            "hidden anti-theft pocket",
        ],
        price: (39.0, 249.0),
        translated: ("Seyahat Sırt Çantası", "Дорожный рюкзак", "旅行双肩包"),
    },
    Kind {
        category: "Fashion",
        noun: "Polarised Sunglasses",
        features: &[
            "UV400 protection",
            "lightweight frame",
            "anti-glare lenses",
            "hard case included",
        ],
        price: (19.0, 299.0),
        translated: (
            "Polarize Güneş Gözlüğü",
            "Поляризационные солнцезащитные очки",
            "偏光太阳镜",
        ),
    },
    Kind {
        category: "Fashion",
        noun: "Merino Wool Sweater",
        features: &[
            "soft merino wool",
            "keeps warm without bulk",
            "machine washable",
            "crew neck",
        ],
        price: (49.0, 229.0),
        translated: (
            "Merinos Yünü Kazak",
            "Свитер из шерсти мериноса",
            "美利奴羊毛衫",
        ),
    },
    Kind {
        category: "Sports",
        noun: "Yoga Mat",
        features: &[
            "non-slip surface",
            "6 mm cushioning",
            "carry strap",
            "eco-friendly material",
        ],
        price: (15.0, 119.0),
        translated: ("Yoga Matı", "Коврик для йоги", "瑜伽垫"),
    },
    Kind {
        category: "Sports",
        noun: "Adjustable Dumbbells",
        features: &[
            "2 to 24 kg per dumbbell",
            "quick weight selector",
            "compact storage tray",
        ],
        price: (99.0, 449.0),
        translated: ("Ayarlanabilir Dambıl", "Регулируемые гантели", "可调节哑铃"),
    },
    Kind {
        category: "Sports",
        noun: "Camping Tent",
        features: &[
            "sleeps four",
            "waterproof flysheet",
            "sets up in five minutes",
            "ventilation windows",
        ],
        price: (69.0, 499.0),
        translated: ("Kamp Çadırı", "Туристическая палатка", "露营帐篷"),
    },
    Kind {
        category: "Sports",
        noun: "Bicycle Helmet",
        features: &[
            "MIPS protection",
            "adjustable fit dial",
            "integrated rear light",
            "lightweight ventilation",
        ],
        price: (29.0, 249.0),
        translated: ("Bisiklet Kaskı", "Велосипедный шлем", "自行车头盔"),
    },
    Kind {
        category: "Beauty",
        noun: "Vitamin C Face Serum",
        features: &[
            "brightens dull skin",
            "hyaluronic acid for hydration",
            "fragrance free",
            "suitable for sensitive skin",
        ],
        price: (9.0, 89.0),
        translated: (
            "C Vitamini Yüz Serumu",
            "Сыворотка для лица с витамином C",
            "维生素C精华液",
        ),
    },
    Kind {
        category: "Books",
        noun: "Mystery Novel",
        features: &[
            "a detective story set in Istanbul",
            "bestselling author",
            "hardcover edition",
            "400 pages",
        ],
        price: (8.0, 35.0),
        translated: ("Polisiye Roman", "Детективный роман", "悬疑小说"),
    },
    Kind {
        category: "Toys",
        noun: "Building Blocks Set",
        features: &[
            "1000 colourful pieces",
            "compatible with major brands",
            "for ages 6 and up",
            "storage box",
        ],
        price: (19.0, 149.0),
        translated: ("Yapı Blokları Seti", "Конструктор", "积木套装"),
    },
];

const BRANDS: &[&str] = &[
    "Aurora", "Nordvik", "Sonora", "Kestrel", "Lumio", "Atlas", "Vento", "Orbit", "Helix",
    "Pioneer", "Mistral", "Zenith",
];
const ADJECTIVES: &[&str] = &[
    "Pro", "Lite", "Max", "Air", "Plus", "Studio", "Go", "Ultra", "Classic", "Edge",
];

/// The language a product is listed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    English,
    Turkish,
    Russian,
    Chinese,
}

#[derive(Debug, Clone)]
pub struct Product {
    pub id: uuid::Uuid,
    pub name: String,
    pub description: String,
    pub category: &'static str,
    pub price: f64,
    pub language: Language,
    /// The English product kind, e.g. "Wireless Noise-Cancelling Headphones".
    pub kind: &'static str,
}

impl Product {
    pub fn to_json(&self) -> Value {
        json!({"id": self.id.to_string(), "name": self.name, "description": self.description,
               "category": self.category, "price": self.price})
    }
}

/// `size` products with stable ids, 70 % English and 10 % each of Turkish,
/// Russian and Chinese.
pub fn catalogue(rng: &mut StdRng, size: usize) -> Vec<Product> {
    (0..size)
        .map(|i| {
            let kind = &KINDS[i % KINDS.len()];
            let brand = BRANDS[rng.random_range(0..BRANDS.len())];
            let adjective = ADJECTIVES[rng.random_range(0..ADJECTIVES.len())];
            let mut features: Vec<&str> = kind.features.to_vec();
            // Two to four features, in varied order.
            for j in (1..features.len()).rev() {
                features.swap(j, rng.random_range(0..=j));
            }
            features.truncate(rng.random_range(2..=features.len().min(4)));
            let language = match rng.random_range(0..10) {
                0 => Language::Turkish,
                1 => Language::Russian,
                2 => Language::Chinese,
                _ => Language::English,
            };
            let (name, description) = match language {
                Language::English => (
                    format!("{brand} {} {adjective}", kind.noun),
                    format!("The {brand} {} {adjective}: {}.", kind.noun.to_lowercase(), features.join(", ")),
                ),
                Language::Turkish => (
                    format!("{brand} {} {adjective}", kind.translated.0),
                    format!("{brand} {} — yüksek kalite, hızlı kargo ve iki yıl garanti. Özellikler: {}.", kind.translated.0, features.join(", ")),
                ),
                Language::Russian => (
                    format!("{brand} {} {adjective}", kind.translated.1),
                    format!("{brand} {} — отличное качество, быстрая доставка и гарантия два года. Характеристики: {}.", kind.translated.1, features.join(", ")),
                ),
                Language::Chinese => (
                    format!("{brand} {} {adjective}", kind.translated.2),
                    format!("{brand}{}，品质卓越，快速发货，两年保修。特点：{}。", kind.translated.2, features.join("，")),
                ),
            };
            let price = (rng.random_range(kind.price.0..kind.price.1) * 100.0).round() / 100.0;
            Product {
                id: uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("product-{i}").as_bytes()),
                name,
                description,
                category: kind.category,
                price,
                language,
                kind: kind.noun,
            }
        })
        .collect()
}
