"""Applications and their integrations, with each integration's backlog and last error as
the appliance reports them."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from tui import format as fmt
from tui.client import ClientError
from tui.screens.application_form import ApplicationForm, IntegrationForm
from tui.screens.base import ConsoleScreen
from tui.screens.confirm import ConfirmScreen
from tui.state.parts import Part, parse_parts

if TYPE_CHECKING:
    from tui.app import Connection
    from tui.client.api import JSON


def integration_targets(parts: list[Part], app_id: str, kind: str) -> list[Part]:
    """The status of one application's integration: one target per destination (an HTTP
    integration with two URLs has two)."""
    return [
        part
        for part in parts
        if part.group == "integration"
        and str(part.get("application_id") or "") == app_id
        and str(part.get("kind") or "") == kind
    ]


def _summary(config: JSON) -> str:
    keys = ("url", "urls", "server", "endpoint", "eventEndpointUrl")
    url = next((config[k] for k in keys if isinstance(config.get(k), str | list)), None)
    if isinstance(url, list):
        url = ", ".join(str(u) for u in url)
    if isinstance(url, str):
        return url
    return ", ".join(f"{k}={v}" for k, v in list(config.items())[:3]) or fmt.DASH


class ApplicationsScreen(ConsoleScreen):
    MODE = "applications"
    CSS_PATH = "applications.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add app", tooltip="add an application"),
        Binding("e", "edit", "Edit app", tooltip="edit the highlighted application"),
        Binding("i", "integration", "Integration", tooltip="add or edit an integration"),
        Binding("x", "remove_integration", "Remove integration", show=False),
        Binding("tab", "focus_next", "Switch table", show=False),
        Binding("r", "reload", "Refresh", tooltip="load the applications again"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.applications: list[JSON] = []
        self.integrations: list[JSON] = []

    def compose_body(self) -> ComposeResult:
        yield Static("Applications", classes="section")
        apps: DataTable[str] = DataTable(id="apps", cursor_type="row")
        yield apps
        yield Static(id="integrations-title", classes="section")
        integrations: DataTable[str | Text] = DataTable(id="integrations", cursor_type="row")
        yield integrations

    def on_mount(self) -> None:
        super().on_mount()
        apps = self.query_one("#apps", DataTable)
        apps.add_columns("name", "id", "description")
        self.query_one("#integrations", DataTable).add_columns(
            "kind", "target", "backlog", "last error"
        )
        apps.loading = True
        apps.focus()
        self.reload()

    def on_screen_resume(self) -> None:
        self.reload()

    def on_status(self, connection: Connection) -> None:
        if connection.ok and not self.applications:
            self.reload()
        elif self.integrations:
            self._show_integrations()

    def action_reload(self) -> None:
        self.reload()

    @work(exclusive=True, group="reload")
    async def reload(self) -> None:
        api = self.console_app.api
        table = self.query_one("#apps", DataTable)
        if api is None:
            return
        try:
            self.applications = await api.list_applications()
        except ClientError as error:
            self.notify_error(error)
            return
        finally:
            table.loading = False
        selected = self.selected_app()
        table.clear()
        for app in self.applications:
            table.add_row(
                app.get("name", ""),
                app.get("id", ""),
                app.get("description") or fmt.DASH,
                key=app["id"],
            )
        if selected is not None:
            for index, app in enumerate(self.applications):
                if app["id"] == selected["id"]:
                    table.move_cursor(row=index, animate=False)
        self.load_integrations()

    def selected_app(self) -> JSON | None:
        table = self.query_one("#apps", DataTable)
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return next((a for a in self.applications if a.get("id") == row_key.value), None)

    @on(DataTable.RowHighlighted, "#apps")
    def app_highlighted(self) -> None:
        self.load_integrations()

    @work(exclusive=True, group="integrations")
    async def load_integrations(self) -> None:
        api = self.console_app.api
        app = self.selected_app()
        if api is None or app is None:
            return
        try:
            self.integrations = await api.list_integrations(app["id"])
        except ClientError as error:
            self.notify_error(error)
            return
        self._show_integrations()

    def _show_integrations(self) -> None:
        app = self.selected_app()
        name = app.get("name", "") if app else ""
        self.query_one("#integrations-title", Static).update(f"Integrations of {name}")
        table = self.query_one("#integrations", DataTable)
        table.clear()
        parts = parse_parts(self.console_app.status)
        for integration in self.integrations:
            kind = str(integration.get("kind", ""))
            targets = integration_targets(parts, str(integration.get("applicationId", "")), kind)
            backlogs = [t.backlog for t in targets if t.backlog is not None]
            error = next((t.last_error for t in targets if t.last_error), "")
            table.add_row(
                kind,
                _summary(integration.get("config", {})),
                fmt.value(sum(backlogs) if backlogs else None),
                Text(error, style="red") if error else fmt.DASH,
                key=kind,
            )

    def _selected_integration(self) -> JSON | None:
        table = self.query_one("#integrations", DataTable)
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return next((i for i in self.integrations if i.get("kind") == row_key.value), None)

    # Actions
    def action_add(self) -> None:
        self.app.push_screen(ApplicationForm(), self._saved)

    def action_edit(self) -> None:
        app = self.selected_app()
        if app is not None:
            self.app.push_screen(ApplicationForm(app), self._saved)

    def action_integration(self) -> None:
        app = self.selected_app()
        if app is None:
            return
        current = None
        if self.query_one("#integrations", DataTable).has_focus:
            current = self._selected_integration()
        self.app.push_screen(IntegrationForm(app["id"], app.get("name", ""), current), self._saved)

    def action_remove_integration(self) -> None:
        app, integration = self.selected_app(), self._selected_integration()
        if app is None or integration is None:
            return
        kind = integration["kind"]

        def answered(yes: bool | None) -> None:
            if yes:
                self.remove_integration(app["id"], kind)

        self.app.push_screen(
            ConfirmScreen(f"Remove the {kind} integration of {app.get('name')}?", yes="Remove"),
            answered,
        )

    @work(group="remove")
    async def remove_integration(self, app_id: str, kind: str) -> None:
        api = self.console_app.api
        if api is None:
            return
        try:
            await api.delete_integration(app_id, kind)
        except ClientError as error:
            self.notify_error(error)
            return
        self.load_integrations()

    def _saved(self, saved: JSON | None) -> None:
        if saved is not None:
            self.notify("saved")
            self.reload()
