"""The item-level ML risk score: features, training, scoring and explanations.

Features follow DATE / BACUDA: smoothed target ("risk") encodings of the parties, HS levels,
countries, office and their combinations, learnt on the training period only (out-of-fold
inside it, so a row never sees its own label); how often each key occurs; unit value (value
per kg) and its deviation from the HS6 and HS4 peer medians; tax rate; then LightGBM.

Everything a score needs at run time is a dict lookup plus one booster call, so scoring one
item in the real-time path costs well under a millisecond. A trained model is stored as JSON
(encoders and LightGBM's own text format), never as a pickle.
"""

import json
import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from app.risk.fields import DECLARATION_FIELDS, HEADER_CODES, SCORED_ITEM_FIELDS

#: the columns a frame of declaration items has (one row per item)
COLUMNS = (*DECLARATION_FIELDS, *SCORED_ITEM_FIELDS)
CATEGORICAL = (
    *HEADER_CODES,
    "hs6",
    "departure_country",
    "origin_country",
    "tax_type",
    "origin_indicator",
)

#: encoded key -> the columns it combines, and how an explanation names it
KEYS = {
    "importer": (("importer_code",), "the importer's record"),
    "declarant": (("declarant_code",), "the declarant's record"),
    "seller": (("seller_code",), "the seller's record"),
    "courier": (("courier_code",), "the courier's record"),
    "hs6": (("hs6",), "the HS6 subheading"),
    "hs4": (("hs4",), "the HS4 heading"),
    "hs2": (("hs2",), "the HS chapter"),
    "origin": (("origin_country",), "the country of origin"),
    "departure": (("departure_country",), "the country of departure"),
    "office": (("office",), "the office"),
    "tax_type": (("tax_type",), "the tax type"),
    "import_type": (("import_type",), "the import type"),
    "import_use": (("import_use",), "the import use"),
    "payment": (("payment_type",), "the payment type"),
    "procedure": (("procedure",), "the process type"),
    "origin_indicator": (("origin_indicator",), "the origin indicator"),
    "transport": (("transport_mode",), "the transport mode"),
    "importer_hs6": (("importer_code", "hs6"), "this importer with this HS6"),
    "declarant_hs6": (("declarant_code", "hs6"), "this declarant with this HS6"),
    "seller_hs6": (("seller_code", "hs6"), "this seller with this HS6"),
    "importer_declarant": (("importer_code", "declarant_code"), "this importer-declarant pair"),
    "importer_seller": (("importer_code", "seller_code"), "this importer-seller pair"),
    "hs6_origin": (("hs6", "origin_country"), "this HS6 from this origin"),
    "hs4_origin": (("hs4", "origin_country"), "this HS4 from this origin"),
    "hs6_tax_type": (("hs6", "tax_type"), "this HS6 with this tax type"),
    "office_hs6": (("office", "hs6"), "this HS6 at this office"),
    "declarant_origin": (("declarant_code", "origin_country"), "this declarant with this origin"),
    "departure_origin": (("departure_country", "origin_country"), "this departure-origin route"),
}
NUMERIC = (
    "tax_rate",
    "log_mass",
    "log_value",
    "log_unit_value",
    "uv_dev_hs6",
    "uv_dev_hs4",
    "same_country",
    "has_courier",
    "weekday",
)
NUMERIC_LABELS = {
    "tax_rate": "the tax rate",
    "log_mass": "the net mass",
    "log_value": "the declared value",
    "log_unit_value": "the unit value",
    "uv_dev_hs6": "unit value against HS6 peers",
    "uv_dev_hs4": "unit value against HS4 peers",
    "same_country": "origin vs departure",
    "has_courier": "courier use",
    "weekday": "the weekday",
}
FEATURES = tuple([f"risk_{k}" for k in KEYS] + [f"count_{k}" for k in KEYS] + list(NUMERIC))

DEFAULT_PARAMS = {
    "n_estimators": 400,
    "learning_rate": 0.03,
    "num_leaves": 31,
    "min_child_samples": 20,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.7,
    "smoothing": 10.0,
    "folds": 5,
    "seed": 7,
}
INSPECTION_RATES = (0.01, 0.02, 0.05, 0.10)
_SEP = "\x1f"


def normalise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy with the derived columns (hs6/hs4/hs2) and clean types; codes as strings."""
    out = pd.DataFrame(index=frame.index)
    for col in COLUMNS:
        if col not in frame:
            raise ValueError(f"frame lacks the column {col!r}")
    for col in (
        "number",
        *HEADER_CODES,
        "departure_country",
        "origin_country",
        "tax_type",
        "origin_indicator",
        "hs_code",
    ):
        out[col] = frame[col].fillna("").astype(str)
    out["hs6"] = out["hs_code"].str[:6]
    out["hs4"] = out["hs_code"].str[:4]
    out["hs2"] = out["hs_code"].str[:2]
    out["declaration_date"] = pd.to_datetime(frame["declaration_date"])
    for col in ("tax_rate", "mass_kg", "value"):
        out[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    if "label" in frame:
        out["label"] = frame["label"]
    return out


def _key_series(frame: pd.DataFrame, cols: tuple) -> pd.Series:
    key = frame[cols[0]]
    for col in cols[1:]:
        key = key + _SEP + frame[col]
    return key


def _log_unit_value(value, mass):
    value = np.nan_to_num(np.asarray(value, dtype=float), nan=0.0)
    mass = np.nan_to_num(np.asarray(mass, dtype=float), nan=0.0)
    return np.log1p(np.maximum(value, 0.0) / np.maximum(mass, 0.001))


@dataclass
class Encoder:
    """Risk encodings, counts and peer medians learnt from one training frame."""

    prior: float = 0.0
    smoothing: float = 10.0
    #: key name -> {key value: smoothed fraud rate}
    risk: dict = field(default_factory=dict)
    #: key name -> {key value: rows in training}
    counts: dict = field(default_factory=dict)
    #: hs6/hs4 -> median log unit value
    uv_median_hs6: dict = field(default_factory=dict)
    uv_median_hs4: dict = field(default_factory=dict)

    @staticmethod
    def _rates(keys: pd.Series, y: np.ndarray, prior: float, m: float) -> dict:
        grouped = (
            pd.DataFrame({"k": keys.to_numpy(), "y": y}).groupby("k")["y"].agg(["sum", "count"])
        )
        rates = (grouped["sum"] + prior * m) / (grouped["count"] + m)
        return rates.to_dict()

    @classmethod
    def fit(cls, frame: pd.DataFrame, y: np.ndarray, smoothing: float) -> "Encoder":
        enc = cls(prior=float(y.mean()), smoothing=smoothing)
        for name, (cols, _label) in KEYS.items():
            keys = _key_series(frame, cols)
            enc.risk[name] = cls._rates(keys, y, enc.prior, smoothing)
            enc.counts[name] = keys.value_counts().to_dict()
        luv = pd.Series(_log_unit_value(frame["value"], frame["mass_kg"]), index=frame.index)
        enc.uv_median_hs6 = luv.groupby(frame["hs6"]).median().to_dict()
        enc.uv_median_hs4 = luv.groupby(frame["hs4"]).median().to_dict()
        return enc

    def transform(
        self, frame: pd.DataFrame, oof_y: np.ndarray | None = None, folds: int = 5, seed: int = 0
    ) -> np.ndarray:
        """Feature matrix; with ``oof_y`` the risk encodings are out-of-fold (training)."""
        n = len(frame)
        out = np.zeros((n, len(FEATURES)), dtype=np.float64)
        fold_of = None
        if oof_y is not None:
            rng = np.random.default_rng(seed)
            fold_of = rng.integers(0, folds, size=n)
        for i, (name, (cols, _label)) in enumerate(KEYS.items()):
            keys = _key_series(frame, cols)
            if fold_of is None:
                out[:, i] = keys.map(self.risk[name]).fillna(self.prior).to_numpy()
            else:
                for f in range(folds):
                    inside = fold_of == f
                    rates = self._rates(keys[~inside], oof_y[~inside], self.prior, self.smoothing)
                    out[inside, i] = keys[inside].map(rates).fillna(self.prior).to_numpy()
            out[:, len(KEYS) + i] = keys.map(self.counts[name]).fillna(0).to_numpy()
        base = 2 * len(KEYS)
        luv = _log_unit_value(frame["value"], frame["mass_kg"])
        out[:, base + 0] = frame["tax_rate"].fillna(0).to_numpy()
        out[:, base + 1] = np.log1p(np.maximum(frame["mass_kg"].fillna(0).to_numpy(), 0))
        out[:, base + 2] = np.log1p(np.maximum(frame["value"].fillna(0).to_numpy(), 0))
        out[:, base + 3] = luv
        out[:, base + 4] = luv - frame["hs6"].map(self.uv_median_hs6).astype(float).to_numpy()
        out[:, base + 5] = luv - frame["hs4"].map(self.uv_median_hs4).astype(float).to_numpy()
        out[:, base + 6] = (frame["departure_country"] == frame["origin_country"]).to_numpy()
        out[:, base + 7] = (frame["courier_code"] != "").to_numpy()
        out[:, base + 8] = frame["declaration_date"].dt.day_of_week.to_numpy()
        return out

    def row_features(self, row: dict) -> list[float]:
        """The feature vector of one item given as a dict of COLUMNS (the real-time path)."""
        hs = str(row.get("hs_code") or "")
        values = {c: str(row.get(c) or "") for c in CATEGORICAL if c != "hs6"}
        values.update(hs6=hs[:6], hs4=hs[:4], hs2=hs[:2])
        risks, counts = [], []
        for name, (cols, _label) in KEYS.items():
            key = _SEP.join(values[c] for c in cols)
            risks.append(self.risk[name].get(key, self.prior))
            counts.append(self.counts[name].get(key, 0))
        value = float(row.get("value") or 0.0)
        mass = float(row.get("mass_kg") or 0.0)
        luv = math.log1p(max(value, 0.0) / max(mass, 0.001))
        med6 = self.uv_median_hs6.get(values["hs6"])
        med4 = self.uv_median_hs4.get(values["hs4"])
        day = row.get("declaration_date")
        weekday = day.weekday() if day is not None else 0
        numeric = [
            float(row.get("tax_rate") or 0.0),
            math.log1p(max(mass, 0.0)),
            math.log1p(max(value, 0.0)),
            luv,
            luv - med6 if med6 is not None else math.nan,
            luv - med4 if med4 is not None else math.nan,
            float(values["departure_country"] == values["origin_country"]),
            float(values["courier_code"] != ""),
            float(weekday),
        ]
        return risks + counts + numeric

    def to_dict(self) -> dict:
        """Compact form: one table per key, value -> [rate, count] (rates to 6 digits)."""
        tables = {}
        for name in KEYS:
            counts = self.counts[name]
            tables[name] = {
                k: [round(float(v), 6), int(counts.get(k, 0))] for k, v in self.risk[name].items()
            }
        return {
            "prior": self.prior,
            "smoothing": self.smoothing,
            "tables": tables,
            "uv_median_hs6": {k: round(float(v), 6) for k, v in self.uv_median_hs6.items()},
            "uv_median_hs4": {k: round(float(v), 6) for k, v in self.uv_median_hs4.items()},
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Encoder":
        tables = data["tables"]
        return cls(
            prior=data["prior"],
            smoothing=data["smoothing"],
            risk={n: {k: v[0] for k, v in t.items()} for n, t in tables.items()},
            counts={n: {k: v[1] for k, v in t.items()} for n, t in tables.items()},
            uv_median_hs6=data["uv_median_hs6"],
            uv_median_hs4=data["uv_median_hs4"],
        )


@dataclass
class TrainedModel:
    """Encoders plus a LightGBM booster; scores items and explains the scores."""

    encoder: Encoder
    booster: object
    params: dict
    n_train: int = 0

    def score_frame(self, frame: pd.DataFrame) -> np.ndarray:
        return self.booster.predict(self.encoder.transform(frame), num_threads=1)

    def score_rows(self, rows: list[dict], explain: int = 3) -> list[dict]:
        """Real-time path: ``[{"score", "explanation"}]`` for item dicts (see row_features)."""
        matrix = np.array([self.encoder.row_features(r) for r in rows], dtype=np.float64)
        scores = self.booster.predict(matrix, num_threads=1)
        out = []
        for vector, score in zip(matrix, scores, strict=True):
            out.append(
                {
                    "score": float(score),
                    "explanation": self.explain(vector, top=explain) if explain else [],
                }
            )
        return out

    def explain(self, vector, top: int = 3) -> list[str]:
        """The features that pushed the score up most, in plain words.

        A cheap approximation fit for the real-time path: each risk encoding's lift over the
        overall rate (in log-odds) weighted by the feature's share of the booster's gain,
        plus unit values well below the HS6 peers. ``explain_exact`` gives SHAP values.
        """
        weights = self._gain_weights()
        prior = min(max(self.encoder.prior, 1e-6), 1 - 1e-6)
        base = math.log(prior / (1 - prior))
        pushes = []
        for idx in range(len(KEYS)):
            rate = min(max(vector[idx], 1e-6), 1 - 1e-6)
            lift = math.log(rate / (1 - rate)) - base
            if lift > 0:
                pushes.append((weights[idx] * lift, idx))
        dev_idx = FEATURES.index("uv_dev_hs6")
        dev = vector[dev_idx]
        if not math.isnan(dev) and dev < -0.3:
            pushes.append((weights[dev_idx] * -dev, dev_idx))
        pushes.sort(reverse=True)
        return [_describe(FEATURES[idx], vector[idx], self.encoder) for _w, idx in pushes[:top]]

    def explain_exact(self, vector, top: int = 5) -> list[tuple[str, float]]:
        """SHAP contributions (log-odds) of the top features; a few ms, for detail pages."""
        contrib = self.booster.predict(np.asarray([vector]), pred_contrib=True, num_threads=1)[0][
            :-1
        ]
        order = np.argsort(-contrib)[:top]
        return [
            (_describe(FEATURES[i], vector[i], self.encoder), float(contrib[i]))
            for i in order
            if contrib[i] > 0
        ]

    def _gain_weights(self) -> np.ndarray:
        if getattr(self, "_weights", None) is None:
            gain = np.asarray(self.booster.feature_importance("gain"), dtype=float)
            self._weights = gain / gain.sum() if gain.sum() else np.ones_like(gain)
        return self._weights

    def to_json(self) -> str:
        return json.dumps(
            {
                "encoder": self.encoder.to_dict(),
                "params": self.params,
                "n_train": self.n_train,
                "booster": self.booster.model_to_string(),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> "TrainedModel":
        import lightgbm as lgb

        data = json.loads(text)
        return cls(
            encoder=Encoder.from_dict(data["encoder"]),
            booster=lgb.Booster(model_str=data["booster"]),
            params=data["params"],
            n_train=data.get("n_train", 0),
        )


def _describe(feature: str, value: float, encoder: Encoder) -> str:
    if feature.startswith("risk_"):
        name = feature[5:]
        ratio = value / encoder.prior if encoder.prior else 0
        return f"{KEYS[name][1]}: {value:.0%} non-compliant history ({ratio:.1f}x average)"
    if feature.startswith("count_"):
        name = feature[6:]
        return f"{KEYS[name][1]}: {int(value)} earlier declarations"
    if feature == "uv_dev_hs6" and not math.isnan(value):
        if abs(value) >= 5:
            return "unit value far from HS6 peers"
        side = "below" if value < 0 else "above"
        return f"unit value {abs(math.expm1(value)):.0%} {side} HS6 peers"
    return NUMERIC_LABELS.get(feature, feature)


def train_model(frame: pd.DataFrame, y: np.ndarray, params: dict | None = None) -> TrainedModel:
    """Fit encoders (out-of-fold on the training rows) and LightGBM on labelled items."""
    import lightgbm as lgb

    params = {**DEFAULT_PARAMS, **(params or {})}
    y = np.asarray(y, dtype=float)
    if len(y) < 50 or y.min() == y.max():
        raise ValueError("training needs at least 50 labelled items with both outcomes")
    encoder = Encoder.fit(frame, y, params["smoothing"])
    matrix = encoder.transform(frame, oof_y=y, folds=params["folds"], seed=params["seed"])
    booster_params = {
        "objective": "binary",
        "learning_rate": params["learning_rate"],
        "num_leaves": params["num_leaves"],
        "min_child_samples": params["min_child_samples"],
        "bagging_fraction": params["subsample"],
        "bagging_freq": params["subsample_freq"],
        "feature_fraction": params["colsample_bytree"],
        "seed": params["seed"],
        "num_threads": 2,
        "verbose": -1,
        "deterministic": True,
        "force_col_wise": True,
    }
    dataset = lgb.Dataset(matrix, label=y, feature_name=list(FEATURES), free_raw_data=True)
    booster = lgb.train(booster_params, dataset, num_boost_round=params["n_estimators"])
    return TrainedModel(encoder=encoder, booster=booster, params=params, n_train=len(y))


def precision_at(y: np.ndarray, scores: np.ndarray, rate: float) -> float:
    """Share of frauds among the ``rate`` highest-scored rows (the hit rate at that rate)."""
    n = max(1, int(round(len(y) * rate)))
    top = np.argsort(-scores, kind="stable")[:n]
    return float(np.asarray(y)[top].mean())


def recall_at(y: np.ndarray, scores: np.ndarray, rate: float) -> float:
    total = float(np.sum(y))
    if total == 0:
        return 0.0
    n = max(1, int(round(len(y) * rate)))
    top = np.argsort(-scores, kind="stable")[:n]
    return float(np.asarray(y)[top].sum() / total)


def metrics(y, scores) -> dict:
    """Precision and recall at 1/2/5/10% inspection, AUC, base rate."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y, dtype=float)
    scores = np.asarray(scores, dtype=float)
    out = {"n": int(len(y)), "base_rate": float(y.mean()) if len(y) else 0.0}
    for rate in INSPECTION_RATES:
        pct = int(round(rate * 100))
        out[f"precision_at_{pct}"] = precision_at(y, scores, rate)
        out[f"recall_at_{pct}"] = recall_at(y, scores, rate)
    out["auc"] = float(roc_auc_score(y, scores)) if 0 < y.sum() < len(y) else None
    return out


def train_baseline(train: pd.DataFrame, y: np.ndarray, test: pd.DataFrame, seed: int = 7):
    """A plain gradient-boosting model on the raw columns (codes as ordinal numbers)."""
    import lightgbm as lgb

    codes = {c: {v: i for i, v in enumerate(pd.unique(train[c]))} for c in CATEGORICAL}

    def raw(frame):
        cols = [frame[c].map(codes[c]).fillna(-1).to_numpy(dtype=float) for c in CATEGORICAL]
        cols += [frame[c].fillna(0).to_numpy(dtype=float) for c in ("tax_rate", "mass_kg", "value")]
        return np.column_stack(cols)

    params = {
        "objective": "binary",
        "learning_rate": 0.05,
        "num_leaves": 63,
        "seed": seed,
        "num_threads": 2,
        "verbose": -1,
        "deterministic": True,
        "force_col_wise": True,
    }
    booster = lgb.train(
        params, lgb.Dataset(raw(train), label=np.asarray(y, dtype=float)), num_boost_round=300
    )
    return booster.predict(raw(test), num_threads=1)


def timed_fit_and_score(
    train: pd.DataFrame, y_train, test: pd.DataFrame, params: dict | None = None
) -> tuple[TrainedModel, np.ndarray, dict]:
    """Train, score the test frame in bulk and one item at a time; returns timings too."""
    started = time.perf_counter()
    model = train_model(train, y_train, params)
    train_s = time.perf_counter() - started
    scores = model.score_frame(test)
    rows = test.head(500).to_dict("records")
    started = time.perf_counter()
    for row in rows:
        model.score_rows([row], explain=0)
    per_item_ms = (time.perf_counter() - started) * 1000 / max(1, len(rows))
    return model, scores, {"train_s": train_s, "score_ms_per_item": per_item_ms}


#: KCS column -> frame column (for benchmarks that read the CSV directly)
KCS_COLUMNS = {
    "Declaration ID": "number",
    "Date": "declaration_date",
    "Office ID": "office",
    "Process Type": "procedure",
    "Import Type": "import_type",
    "Import Use": "import_use",
    "Payment Type": "payment_type",
    "Mode of Transport": "transport_mode",
    "Declarant ID": "declarant_code",
    "Importer ID": "importer_code",
    "Seller ID": "seller_code",
    "Courier ID": "courier_code",
    "HS6 Code": "hs_code",
    "Country of Departure": "departure_country",
    "Country of Origin": "origin_country",
    "Tax Rate": "tax_rate",
    "Tax Type": "tax_type",
    "Country of Origin Indicator": "origin_indicator",
    "Net Mass": "mass_kg",
    "Item Price": "value",
    "Fraud": "label",
}


def read_kcs_csv(path) -> pd.DataFrame:
    """A KCS-format CSV as a normalised frame with a ``label`` column."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in KCS_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {', '.join(missing)}")
    frame = raw.rename(columns=KCS_COLUMNS)
    frame["label"] = pd.to_numeric(frame["label"], errors="raise").astype(int)
    return normalise_frame(frame)
