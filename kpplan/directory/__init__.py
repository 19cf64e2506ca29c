"""Who is who: member states, organisations and the people who use kpplan."""
