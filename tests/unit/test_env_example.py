"""``.env.example`` lists every worker setting with its default; regenerate it when settings change:
``python -c "from app.settings import env_example; open('.env.example','w').write(env_example())"``."""

from pathlib import Path

from app.settings import WorkerSettings, env_example, from_env, read_dotenv, settings_table


def test_env_example_is_in_sync_with_the_settings_model() -> None:
    path = Path(__file__).resolve().parents[2] / ".env.example"
    assert path.read_text() == env_example()


def test_every_setting_in_env_example_round_trips_to_its_default(tmp_path: Path) -> None:
    uncommented = tmp_path / ".env"
    # Settings without a default (None) stay unset: an empty value would mean something else.
    lines = [
        line[1:] if line.startswith("#CONNECT_") and not line.endswith("=") else line
        for line in env_example().splitlines()
    ]
    uncommented.write_text("\n".join(lines))
    values = from_env(read_dotenv(uncommented))
    assert WorkerSettings.model_validate(values) == WorkerSettings()
    with_defaults = [f for f in WorkerSettings.model_fields.values() if f.get_default() not in (None, "")]
    assert len(values) == len(with_defaults)


def test_the_readme_settings_table_is_in_sync_with_the_settings_model() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert settings_table() in readme, (
        "regenerate it with: python -c 'from app.settings import settings_table; print(settings_table())'"
    )
