"""Page controllers: each translates a form or a link into one service call and a page."""
