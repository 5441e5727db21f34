"""The outlier process and the statistical settings are configuration, checked when read."""

from __future__ import annotations

import pytest

from naome_report.config import PROJECT_ROOT, ConfigError, load_config
from naome_report.method_settings import method_settings
from naome_report.registry import RegistryError, load_registry


def test_outlier_process_defaults_to_the_case_mix_outcomes_plus_named_process_measures():
    registry = load_registry()
    in_process = {i.id for i in registry if i.outlier_process}
    assert in_process == {"mort30_sact", "emergency", "mdt"}
    assert all(i.has_funnel == i.has_rate for i in registry)
    assert not registry.get("ascertainment").has_funnel


def test_registry_refuses_a_bad_overdispersion_choice_and_a_count_in_the_process(tmp_path):
    source = (PROJECT_ROOT / "data" / "indicators.yaml").read_text()
    bad = tmp_path / "indicators.yaml"
    bad.write_text(source.replace("    outlier_process: true\n", "    overdispersion: sometimes\n", 1))
    with pytest.raises(RegistryError, match="indicator 'mdt': overdispersion must be one of"):
        load_registry(bad)
    bad.write_text(source.replace("    numerator: {kind: count}\n", "    numerator: {kind: count}\n    outlier_process: true\n"))
    with pytest.raises(RegistryError, match="indicator 'ascertainment': a count without a rate cannot enter"):
        load_registry(bad)


@pytest.mark.parametrize(("section", "values", "message"), [
    ("funnel", {"overdispersion": "sometimes"}, r"\[funnel\] overdispersion must be one of none, multiplicative"),
    ("funnel", {"winsorise": 0.5}, r"\[funnel\] winsorise must be at least 0 and under 0.5"),
    ("spc", {"rolling_rules": ["outside_limits", "moon"]}, r"\[spc\] rolling_rules has unknown rule\(s\) \['moon'\]"),
    ("spc", {"chart": "xmr"}, r"\[spc\] chart must be one of p, p_prime, auto"),
    ("survival", {"min_at_risk": 0}, r"\[survival\] min_at_risk must be at least 1"),
    ("funnel", {"phi_limit": 2}, r"\[funnel\] has unknown key\(s\) phi_limit"),
])
def test_a_bad_setting_is_named_with_the_file_and_key(section, values, message):
    with pytest.raises(ConfigError, match=message):
        method_settings(load_config(overrides={section: values}))


def test_a_missing_setting_is_named():
    config = load_config()
    raw = {k: dict(v) if isinstance(v, dict) else v for k, v in config.raw.items()}
    del raw["survival"]["min_at_risk"]
    with pytest.raises(ConfigError, match=r"naome.toml: \[survival\] is missing min_at_risk"):
        method_settings(type(config)(raw=raw, source=config.source))
