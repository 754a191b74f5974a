// The HomeSec sidebar panel: the engine's own panel in a frame, served by the integration
// behind Home Assistant's login. The page asks Home Assistant (with the user's token) for a
// panel session, a short-lived cookie scoped to the panel's path; the engine's API key stays
// in Home Assistant. The session is renewed well before it expires.
const RENEW_MS = 20 * 60 * 1000;

class HomeSecPanel extends HTMLElement {
  set hass(hass) {
    const first = !this._hass;
    this._hass = hass;
    if (first) this._open();
  }

  async _session() {
    return this._hass.callApi("POST", "homesec/panel/session");
  }

  async _open() {
    try {
      const { path } = await this._session();
      this.innerHTML = "";
      const frame = document.createElement("iframe");
      frame.src = path;
      frame.title = "HomeSec";
      frame.style.cssText = "border:0;width:100%;height:100vh;display:block";
      this.appendChild(frame);
      this._timer = setInterval(() => this._session().catch(() => {}), RENEW_MS);
    } catch (err) {
      this.textContent = `HomeSec panel unavailable: ${err && (err.body?.message || err.message || err)}`;
    }
  }

  disconnectedCallback() {
    clearInterval(this._timer);
  }
}

customElements.define("homesec-panel", HomeSecPanel);
